"""MkDocs hook: publish the project's notebooks (``notebooks/**/*.ipynb``) in the site.

MkDocs only reads files inside ``docs/``, while the notebooks live in ``notebooks/`` next to
it, where ``make test`` checks them. Rather than copying or symlinking them, this hook adds
each notebook to the build as if it were under ``docs/notebooks/``, lists it in the navigation
under "Notebooks" and on the ``notebooks.md`` page, and lets mkdocs-jupyter render it (with
its stored outputs; nothing is executed). A checkout without notebooks still builds.
"""

from __future__ import annotations

import json
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

NAV_SECTION = "Notebooks"
LIST_PAGE = "notebooks.md"
LIST_MARKER = "<!-- notebook-list -->"
SOURCE = "notebooks"

_found: list[tuple[str, str]] = []  # (path relative to the project root, title)


def _project_root(config) -> Path:
    return Path(config.config_file_path).resolve().parent


def _title(path: Path) -> str:
    """The notebook's first level-1 heading, else a title made from its file name."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        cells = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        for line in text.splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return path.stem.lstrip("0123456789_-").replace("_", " ").strip().capitalize() or path.stem


def _discover(root: Path) -> list[tuple[str, str]]:
    folder = root / SOURCE
    if not folder.is_dir():
        return []
    paths = [
        p for p in folder.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]
    paths.sort(key=lambda p: (len(p.relative_to(folder).parts), p.relative_to(folder).as_posix()))
    return [(p.relative_to(root).as_posix(), _title(p)) for p in paths]


def on_config(config):
    _found[:] = _discover(_project_root(config))
    folder = _project_root(config) / SOURCE
    if folder.is_dir() and str(folder) not in config.watch:
        config.watch.append(str(folder))
    for entry in config.nav or []:
        if isinstance(entry, dict) and isinstance(entry.get(NAV_SECTION), list):
            section = entry[NAV_SECTION]
            section[:] = [item for item in section if not _is_notebook_entry(item)]
            section.extend({title: path} for path, title in _found)
    return config


def _is_notebook_entry(item) -> bool:
    values = item.values() if isinstance(item, dict) else [item]
    return any(isinstance(v, str) and v.endswith(".ipynb") for v in values)


@event_priority(50)  # before mkdocs-jupyter turns .ipynb files into pages
def on_files(files, config):
    root = _project_root(config)
    for path, _ in _found:
        if files.get_file_from_path(path) is None:
            files.append(File(path, src_dir=str(root), dest_dir=config.site_dir,
                              use_directory_urls=config.use_directory_urls))
    return files


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri != LIST_PAGE or LIST_MARKER not in markdown:
        return markdown
    if _found:
        listing = "\n".join(f"- [{title}]({path})" for path, title in _found)
    else:
        listing = "*No notebooks are published in this build.*"
    return markdown.replace(LIST_MARKER, listing)
