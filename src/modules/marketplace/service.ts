// The public marketplace: the catalog, browsable by anyone, paged by slug.
import type { Catalog, Skill } from "../skills/catalog";
import { NotFoundError } from "../../lib/errors";
import { pageOfList, type PageParams } from "../../store/paginate";

export function skillSummary(s: Skill) {
  return {
    id: s.slug,
    slug: s.slug,
    name: s.name,
    description: s.description,
    category: s.category,
    license: s.license,
    source: s.source,
  };
}

export function skillDetail(s: Skill) {
  return {
    ...skillSummary(s),
    compatibility: s.compatibility,
    metadata: s.metadata,
    parameters: s.parameters,
    instructions: s.instructions,
    files: Object.keys(s.files).sort(),
    origin: s.origin,
  };
}

interface CatalogFilter {
  category?: string;
  q?: string;
}

export function createMarketplaceService(catalog: Catalog) {
  /** Every category with its skill count, by name (code-unit order, the order the name cursors page in). */
  const categories = () => {
    const counts = new Map<string, number>();
    for (const s of catalog.list) counts.set(s.category, (counts.get(s.category) ?? 0) + 1);
    return [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, count]) => ({ id: name, name, count }));
  };

  const matching = (filter: CatalogFilter) => {
    let list = catalog.list;
    if (filter.category) {
      const c = filter.category.toLowerCase();
      list = list.filter((s) => s.category.toLowerCase() === c);
    }
    if (filter.q) {
      const words = filter.q.toLowerCase().split(/\s+/).filter(Boolean);
      list = list.filter((s) => {
        const hay = `${s.slug} ${s.name} ${s.description}`.toLowerCase();
        return words.every((w) => hay.includes(w));
      });
    }
    return list;
  };

  return {
    list(p: PageParams<string>, filter: CatalogFilter) {
      const page = pageOfList(matching(filter), (s) => s.slug, p);
      return { rows: page.rows.map(skillSummary), hasMore: page.hasMore };
    },

    /** Every matching skill, unpaged: MCP's prompts, resources, completions and search-skills offer the whole catalog. */
    all: (filter: CatalogFilter = {}) => matching(filter).map(skillSummary),

    categories,

    /** One page of categories, the name as the cursor (like the skills' slugs). */
    categoryPage(p: PageParams<string>) {
      return pageOfList(categories(), (c) => c.name, p);
    },

    get(slug: string): Skill {
      const s = catalog.bySlug.get(slug);
      if (!s) throw new NotFoundError("skill", slug);
      return s;
    },
  };
}

export type MarketplaceService = ReturnType<typeof createMarketplaceService>;
