// The web app's page routes: every answer is one self-contained HTML document served through htmlPage()
// (inline blocks allowed by hash). Pages read and change data only through the public REST API and
// /api/events with the session cookie; no route here touches a service.
import type { Platform } from "../../http/platform";
import { htmlPage } from "../../http/html-page";
import { signinPage } from "./signin";
import { hasSession } from "./shell";
import { executionPage, executionsPage } from "./executions";
import { memoryPage } from "./memory";
import { artifactPage, artifactsPage } from "./artifacts";
import { libraryPage } from "./library";
import { skillPage } from "./skill";
import { settingsIndex, settingsPage } from "./settings";
import { workflowsPage } from "./workflows";
import { workflowRunPage } from "./workflow-run";
import { invitationPage } from "./invitation";

const hide = { detail: { hide: true } };

export const webAppRoutes = (app: Platform) =>
  app
    .get("/", ({ set, request }) => htmlPage(set, signinPage(hasSession(request))), hide)
    .get("/login", ({ set, request }) => htmlPage(set, signinPage(hasSession(request))), hide)
    .get("/executions", ({ set, request }) => htmlPage(set, executionsPage(hasSession(request))), hide)
    .get("/executions/:id", ({ set, request }) => htmlPage(set, executionPage(hasSession(request))), hide)
    // Browsers ask for it on every other page (/activate, /docs): nothing, rather than a logged 404.
    .get("/favicon.ico", ({ set }) => {
      set.status = 204;
      set.headers["cache-control"] = "public, max-age=86400";
      return "";
    }, hide)
    .get("/library", ({ set, request }) => htmlPage(set, libraryPage(hasSession(request))), hide)
    // The spec's "browse them all at /skills": the same page, so a link to either works.
    .get("/skills", ({ set, request }) => htmlPage(set, libraryPage(hasSession(request))), hide)
    .get("/skills/:slug", ({ set, request }) => htmlPage(set, skillPage(hasSession(request))), hide)
    .get("/artifacts", ({ set, request }) => htmlPage(set, artifactsPage(hasSession(request))), hide)
    .get("/artifacts/:id", ({ set, request }) => htmlPage(set, artifactPage(hasSession(request)), { frames: "self" }), hide)
    .get("/memory", ({ set, request }) => htmlPage(set, memoryPage(hasSession(request))), hide)
    .get("/workflows", ({ set, request }) => htmlPage(set, workflowsPage(hasSession(request))), hide)
    .get("/workflows/runs/:id", ({ set, request }) => htmlPage(set, workflowRunPage(hasSession(request))), hide)
    .get("/invitations/accept", ({ set, request }) => htmlPage(set, invitationPage(hasSession(request))), hide)
    .get("/settings", ({ set, request }) => htmlPage(set, settingsIndex(hasSession(request))), hide)
    .get("/settings/:section", ({ set, request, params }) => {
      const page = settingsPage(params.section, hasSession(request));
      if (page) return htmlPage(set, page);
      // An unknown section: the list of real ones, answered as what it is.
      set.status = 404;
      return htmlPage(set, settingsIndex(hasSession(request)));
    }, hide);
