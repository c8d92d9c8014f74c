"""The category taxonomy, read from the packaged ``taxonomy.toml``.

Top categories follow OpenRouter's "State of AI" study and use the simulator's ids (same order);
subcategories are where the study reports them (roleplay games vs writers' resources, programming vs
development tools, ...). A subcategory is picked by keywords of the taxonomy file, so every classifier
only has to name the top category.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from tokencensus.errors import ConfigError

OTHER = "other"
"""The category of everything else, and of every label below the confidence floor."""


@dataclass(frozen=True)
class Subcategory:
    id: str
    label: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    description: str
    subcategories: tuple[Subcategory, ...]
    seeds: tuple[str, ...] = ()
    """Short example requests written for the category (some not in English): with the description,
    training data of last resort where real labelled prompts are missing (:mod:`.train`)."""


@dataclass(frozen=True)
class Taxonomy:
    categories: tuple[Category, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        """Category ids in file order (the simulator's order)."""
        return tuple(c.id for c in self.categories)

    def category(self, category_id: str) -> Category:
        for c in self.categories:
            if c.id == category_id:
                return c
        raise ConfigError(f"unknown category {category_id!r}; the taxonomy has: {', '.join(self.ids)}")

    def subcategory(self, category_id: str, text: str) -> str:
        """The subcategory of a prompt of ``category_id``: the first whose keyword occurs in it."""
        cat = self.category(category_id)
        lowered = text.lower()
        for sub in cat.subcategories:
            if any(k in lowered for k in sub.keywords):
                return sub.id
        return cat.subcategories[0].id


@cache
def load_taxonomy() -> Taxonomy:
    """The packaged taxonomy (validated: unique ids, ``other`` present, every category a subcategory)."""
    raw = tomllib.loads(resources.files("tokencensus.classify").joinpath("taxonomy.toml").read_text("utf-8"))
    cats = []
    for entry in raw["category"]:
        subs = tuple(
            Subcategory(s["id"], s["label"], tuple(k.lower() for k in s.get("keywords", [])))
            for s in entry["subcategories"]
        )
        if not subs:
            raise ConfigError(f"taxonomy.toml: category {entry['id']!r} has no subcategory")
        cats.append(
            Category(entry["id"], entry["label"], entry["description"], subs, tuple(entry.get("seeds", [])))
        )
    taxonomy = Taxonomy(tuple(cats))
    if len(set(taxonomy.ids)) != len(taxonomy.ids) or OTHER not in taxonomy.ids:
        raise ConfigError("taxonomy.toml: category ids must be unique and include 'other'")
    return taxonomy
