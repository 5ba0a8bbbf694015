// The API reference page: renders /openapi.json in the browser with no CDN, so it works offline.
export const docsPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Clanker API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:960px;padding:24px;color:#1b1b1f}
h1{font-size:24px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}
.op{margin:10px 0;padding:8px 12px;border:1px solid #e3e3e8;border-radius:6px}
.m{display:inline-block;min-width:60px;font-weight:600;font-family:monospace}
.GET{color:#0a7}.POST{color:#05c}.PUT,.PATCH{color:#b60}.DELETE{color:#c23}
code{font-family:ui-monospace,monospace}details pre{background:#f6f6f8;padding:8px;overflow:auto;font-size:12px}
</style></head><body>
<h1>Clanker API reference</h1>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a>. Authenticate with <code>x-api-key</code> or <code>x-auth-token</code>.</p>
<div id="ops">Loading…</div>
<script>
fetch('/openapi.json').then(r=>r.json()).then(doc=>{
  const byTag={};
  for(const [path,item] of Object.entries(doc.paths)) for(const [method,op] of Object.entries(item)){
    const tag=(op.tags&&op.tags[0])||'Other';(byTag[tag]??=[]).push({path,method:method.toUpperCase(),op});
  }
  const el=document.getElementById('ops');el.textContent='';
  for(const tag of Object.keys(byTag).sort()){
    const h=document.createElement('h2');h.textContent=tag;el.append(h);
    for(const {path,method,op} of byTag[tag]){
      const d=document.createElement('div');d.className='op';
      const m=document.createElement('span');m.className='m '+method;m.textContent=method;
      const p=document.createElement('code');p.textContent=path;
      const s=document.createElement('span');s.textContent=op.summary?' — '+op.summary:'';
      const det=document.createElement('details');const sum=document.createElement('summary');sum.textContent='schema';
      const pre=document.createElement('pre');pre.textContent=JSON.stringify({parameters:op.parameters,requestBody:op.requestBody,responses:op.responses},null,2);
      det.append(sum,pre);d.append(m,p,s,det);el.append(d);
    }
  }
});
</script></body></html>`;
