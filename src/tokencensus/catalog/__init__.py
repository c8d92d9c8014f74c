"""The model catalog: slug → author, open weights, origin, size, reasoning, prices; alias resolution.

>>> from tokencensus.catalog import load_catalog
>>> catalog = load_catalog()
>>> catalog.resolve_one("bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0")
'anthropic/claude-sonnet-4.5'
>>> catalog.get("deepseek/deepseek-r1")["origin"]
'CN'

The packaged models.csv and aliases.csv are regenerated from OpenRouter snapshots with
:func:`build_catalog_files` (see :mod:`tokencensus.catalog.importers`); nothing is downloaded.
"""

from tokencensus.catalog.aliases import AliasIndex, model_key, split_name
from tokencensus.catalog.importers import (
    AUTHOR_ORIGIN,
    build_catalog_files,
    import_litellm_prices,
    import_openrouter_aliases,
    import_openrouter_models,
)
from tokencensus.catalog.models import (
    ALIAS_SCHEMA,
    CATALOG_SCHEMA,
    ORIGINS,
    SIZE_CLASSES,
    UNKNOWN,
    Catalog,
    load_catalog,
    read_aliases_csv,
    read_catalog_csv,
    size_class,
    write_aliases,
    write_catalog,
)

__all__ = [
    "ALIAS_SCHEMA",
    "AUTHOR_ORIGIN",
    "CATALOG_SCHEMA",
    "ORIGINS",
    "SIZE_CLASSES",
    "UNKNOWN",
    "AliasIndex",
    "Catalog",
    "build_catalog_files",
    "import_litellm_prices",
    "import_openrouter_aliases",
    "import_openrouter_models",
    "load_catalog",
    "model_key",
    "read_aliases_csv",
    "read_catalog_csv",
    "size_class",
    "split_name",
    "write_aliases",
    "write_catalog",
]
