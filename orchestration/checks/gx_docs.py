"""GX's own Data Docs for the gates: a file-based GX context beside the warehouse.

``<warehouse dir>/gx/`` is a GX file context: it keeps each suite as GX runs it
(``gx/expectations/<suite>.json``) and every validation result of the gates
(``gx/uncommitted/validations/``). Its Data Docs site is written to ``data_docs/`` beside the
warehouse (``PSW_DATA_DOCS_DIR`` moves it), by GX's own site builder: ``index.html`` lists the
latest validations (``INDEX_LIMIT``), each with its page. After a gate runs, its results are
stored and only their pages (and the suite's) are rendered, plus the index.

One site builder serves every gate of a process: GX's ``build_data_docs`` makes a new one per
call, and each new one compiles every Jinja template of the site again (4.7-5.0 s for the 13
gates of a demo-city run, against 1.3-1.7 s with one builder; docs/quality_gates.md). The site has
no profiling section: the gates never profile, and that section lists every stored validation
on every build.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from orchestration.checks.gx_duckdb import import_gx, quiet
from orchestration.checks.outcomes import SuiteOutcome
from orchestration.settings import read_environment

SITE = "local_site"
INDEX_LIMIT = 120
_contexts: dict[str, object] = {}
_builders: dict[str, object] = {}


def docs_dir(warehouse_path: str | Path) -> Path:
    """Where the site goes: ``PSW_DATA_DOCS_DIR``, else ``data_docs/`` beside the warehouse."""
    e = read_environment()
    return e.resolve(e.data_docs_dir, Path(warehouse_path).resolve().parent / "data_docs")


def gx_dir(warehouse_path: str | Path) -> Path:
    return Path(warehouse_path).resolve().parent / "gx"


def _site_key(warehouse_path: str | Path) -> str:
    """Which context and builder serve a warehouse: its GX folder's parent and its site's folder."""
    return f"{gx_dir(warehouse_path).parent}|{docs_dir(warehouse_path)}"


def file_context(warehouse_path: str | Path):
    """The GX file context beside the warehouse (made on first use), its site in ``docs_dir``."""
    key = _site_key(warehouse_path)
    if key not in _contexts:
        gx = import_gx()
        root = gx_dir(warehouse_path).parent
        site = str(docs_dir(warehouse_path))
        context = gx.get_context(mode="file", project_root_dir=str(root))
        quiet(context)
        config = {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": site},
            # the index lists the latest validations (GX reads each one it lists: bounded cost)
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "validation_results_limit": INDEX_LIMIT},
            "site_section_builders": {"profiling": "None"},
        }
        sites = context.variables.data_docs_sites or {}
        if sites.get(SITE) != config:
            if SITE in sites:
                context.update_data_docs_site(SITE, config)
            else:
                context.add_data_docs_site(SITE, config)
        context.variables.save()
        _contexts[key] = context
    return _contexts[key]


def site_builder(warehouse_path: str | Path):
    """GX's builder of the site (``SiteBuilder``, as the context's config names it), made once per
    process so its Jinja templates are compiled once."""
    from great_expectations.render.renderer.site_builder import SiteBuilder

    key = _site_key(warehouse_path)
    if key not in _builders:
        context = file_context(warehouse_path)
        config = {k: v for k, v in context.variables.data_docs_sites[SITE].items() if k != "class_name"}
        _builders[key] = SiteBuilder(data_context=context, site_name=SITE, **config)
    return _builders[key]


def _batch_name(label: str, key: str | None) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(label).name)
    return f"{name}-{key[:12]}" if key and key != label else name


def write_data_docs(outcome: SuiteOutcome, warehouse_path: str | Path, run_id: str | None = None) -> Path | None:
    """Store the outcome's GX results in the file context and render their pages; returns the page
    to open (the first batch that failed a critical expectation, else the first), or None when
    GX validated nothing (the table does not exist yet, or no file needed judging)."""
    if not outcome.gx_results:
        return None
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    context = file_context(warehouse_path)
    context.suites.add_or_update(outcome.gx_suite)
    suite_id = ExpectationSuiteIdentifier(name=outcome.suite.name)
    run = RunIdentifier(run_name=run_id or "manual", run_time=datetime.now(UTC))
    keys = []
    for label, key, result in outcome.gx_results:
        vkey = ValidationResultIdentifier(suite_id, run, _batch_name(label, key))
        context.validation_results_store.set(vkey, result)
        keys.append((vkey, result, key))
    site_builder(warehouse_path).build(resource_identifiers=[suite_id] + [k for k, _, _ in keys])
    # the page of a file (or city) that failed a critical expectation, else the first one's
    critical = [
        vkey
        for vkey, result, key in keys
        if key is not None
        and any(not r.success and r.expectation_config.severity == "critical" for r in result.results)
    ]
    shown = (critical or [vkey for vkey, _, key in keys if key is not None] or [keys[0][0]])[0]
    url = context.get_docs_sites_urls(resource_identifier=shown, site_name=SITE)[0]["site_url"]
    return Path(unquote(urlparse(url).path))
