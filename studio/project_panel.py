"""The Project tab: which project this page works in, its link, saving it as a file and opening
one, and deleting it; the API's /project_key, /open_project and /list_runs.

As the page loads, it hands over the key it kept in the browser's local storage (or the one in a
project link's `#project=...`, which never reaches a server's logs: a URL's fragment is not sent);
the server opens that project, or makes one, and the page keeps its key. Then every view that
shows the project's work (Model menus, runs, taught hands) is drawn anew: tabs register those views
with `on_project` as they are built.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from . import assets, models, projects

log = logging.getLogger(__name__)

MAX_PROJECT_FILE_BYTES = 250_000_000

STORAGE_KEY = "classifier-project"
# The key the browser kept: a project link's first (it then replaces the kept one), else local storage's.
READ_KEY_JS = f"""() => {{
  const m = location.hash.match(/project=([A-Za-z0-9_-]{{8,128}})/);
  return [m ? m[1] : (localStorage.getItem({STORAGE_KEY!r}) || '')];
}}"""
# Keep the key; take it out of the address bar, where anyone looking at the screen would read it.
KEEP_KEY_JS = f"""(key) => {{
  if (key) localStorage.setItem({STORAGE_KEY!r}, key);
  if (location.hash.includes('project=')) history.replaceState(null, '', location.pathname + location.search);
}}"""
LINK_JS = """(key) => {
  const link = location.origin + location.pathname + '#project=' + key;
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(link).catch(() => {});
  return link;
}"""

_views: dict[bool, list[tuple[Callable[..., Any], list[Any]]]] = {False: [], True: []}


_selected: list[tuple[Any, Callable[..., Any], list[Any]]] = []


def on_project(fn: Callable[[gr.Request], Any], outputs: list[Any], figures: bool = False,
               tab: Any = None) -> None:
    """Draw `outputs` with `fn(request)` whenever the page's project is opened, made or deleted, and
    (`tab`) whenever that tab is selected. `figures`: views that take a while to draw (plots), drawn
    just after the others."""
    _views[figures].append((fn, outputs))
    if tab is not None:
        _selected.append((tab, fn, outputs))


def _once_attached(fn: Callable[[gr.Request], Any], n: int) -> Callable[..., Any]:
    """`fn` for a tab's select event, skipped until the page has its project. Gradio selects the
    first tab as the page loads, before the page-open request binds the session to its project:
    drawn then, the tab's views would show no project's, and that answer can reach the page after
    the page-open's own and overwrite it."""
    def draw(key: str, request: gr.Request) -> Any:
        if not key:
            return gr.skip() if n == 1 else (gr.skip(),) * n
        return fn(request)
    return draw


def _outputs(figures: bool) -> list[Any]:
    return [c for _, outputs in _views[figures] for c in outputs]


def drawn(request: gr.Request, figures: bool = False) -> tuple[Any, ...]:
    """The registered views of the request's project (`figures`: the slow ones), in registration order."""
    values: list[Any] = []
    for fn, outputs in _views[figures]:
        value = fn(request)
        values.extend(value if len(outputs) > 1 else (value,))
    return tuple(values)


def figures_drawn(request: gr.Request) -> tuple[Any, ...]:
    return drawn(request, figures=True)


def summary(session: str) -> str:
    pid = projects.bound(session)
    if pid is None:
        return ""
    runs, taught = projects.store().sizes(pid)
    return (f"This page works in your project: {runs} run(s) (it keeps the last {models.MAX_RUNS}), "
            f"{taught} taught hand example(s), your model choices. They stay after a reload and on this browser; "
            "the project link opens them anywhere, so keep it private.")


def attach(key: str, request: gr.Request) -> tuple[str, str]:
    """The page opened: work in its project (or a new one). Returns the key to keep and the bar's words."""
    session = models.session_id(request)
    try:
        kept, new = projects.attach(session, key, models.client(request))
    except projects.ProjectError as e:
        return "", f"⚠️ {e} Your work on this page will not be kept."
    log.info("page %s opened project %s (%s)", session[:6], projects.bound(session),
             "new" if new else "kept by the browser")
    return kept, summary(session)


def project_key(request: gr.Request) -> str:
    """This session's project key (a new project is made if it has none). Keep it private: whoever has
    it has the project.

    Returns:
        the key
    """
    try:
        return projects.key(models.session_id(request), models.client(request))
    except projects.ProjectError as e:
        raise gr.Error(str(e)) from None


def open_project(key: str, request: gr.Request) -> str:
    """Work in the project whose key this is: its runs, taught hand and model choices.

    Args:
        key: a project's key (from /project_key, or a project link's #project=...)
    Returns:
        what the project holds
    """
    session = models.session_id(request)
    try:
        projects.open_key(session, key)
    except projects.ProjectError as e:
        raise gr.Error(str(e)) from None
    return summary(session)


def list_runs(request: gr.Request) -> list[dict[str, Any]]:
    """This session's project's runs, oldest first.

    Returns:
        one dict a run: number, dataset, preset, test_accuracy (None where not measured), status
        (done, stopped, interrupted or running)
    """
    return [{"number": r.number, "dataset": r.config.dataset, "preset": r.preset, "test_accuracy": r.accuracy,
             "status": r.status} for r in projects.runs(projects.bound(models.session_id(request)))]


def save_project(request: gr.Request) -> str:
    """This session's project as one file (its runs' models, curves and reports, its taught examples)."""
    pid = projects.bound(models.session_id(request))
    if pid is None:
        raise gr.Error("This page has no project yet.")
    path = models.download_folder() / "my-project.mlpproject.zip"
    path.write_bytes(projects.export(pid))
    return str(path)


def open_project_file(file: str | None, request: gr.Request) -> str:
    """Add a project file's runs, taught examples and models in use to this session's project."""
    if not file:
        raise gr.Error("Choose a project file (.zip) to open.")
    if Path(file).stat().st_size > MAX_PROJECT_FILE_BYTES:
        raise gr.Error(f"A project file may be at most {MAX_PROJECT_FILE_BYTES / 1e6:.0f} MB.")
    try:
        message = projects.import_into(models.project_of(request), file)
    except projects.ProjectError as e:
        raise gr.Error(str(e)) from None
    return f"{message} {summary(models.session_id(request))}"


def delete_project(confirmed: bool, request: gr.Request) -> tuple[str, str]:
    """Delete this page's project (every run, taught hand and choice), then start a new, empty one."""
    if not confirmed:
        return gr.skip(), "Nothing deleted."
    session = models.session_id(request)
    projects.delete(session)
    return attach("", request)


def build(demo: gr.Blocks) -> None:
    """The Project tab and its events; call after every tab has registered its views."""
    with gr.Tab("Project", elem_id="project"):
        about = gr.Markdown(elem_id="project-about")
        with gr.Row():
            copy = gr.Button("Copy project link", size="sm", elem_id="project-copy")
            save = gr.Button("Save project as a file", size="sm", elem_id="project-save")
            load = gr.UploadButton("Open a project file (adds it here)", file_types=[".zip"], size="sm",
                                   elem_id="project-open")
            delete = gr.Button("Delete project", size="sm", variant="stop", elem_id="project-delete")
        link = gr.Textbox(label="Project link (opens this project in any browser; keep it private)",
                          visible=False, interactive=False, elem_id="project-link", buttons=["copy"])
    key = gr.Textbox(visible=False, elem_id="project-key")
    saved = gr.DownloadButton(visible="hidden", elem_id="project-file")
    private = {"api_visibility": "private"}

    views, figures = _outputs(False), _outputs(True)

    def attach_and_draw(kept: str, request: gr.Request) -> tuple[Any, ...]:
        # One request draws every quick view, rather than one round trip a view; the figures follow.
        return (*attach(kept, request), *drawn(request))

    def redraw(event: Any) -> None:
        event.then(drawn, None, views, **private).then(figures_drawn, None, figures, **private)

    opened = demo.load(attach_and_draw, key, [key, about, *views], js=READ_KEY_JS, queue=False, **private)
    opened.then(None, key, None, js=KEEP_KEY_JS, **private)
    opened.then(figures_drawn, None, figures, **private)
    for tab, fn, outputs in _selected:
        tab.select(_once_attached(fn, len(outputs)), key, outputs, **private)
    copy.click(None, key, link, js=LINK_JS, **private).then(lambda: gr.Textbox(visible=True), None, link, **private)
    deleted = delete.click(delete_project, key, [key, about], js="(key) => confirm('Delete this project: every run, "
                           "taught hand and choice in it? This cannot be undone.')", **private)
    deleted.then(None, key, None, js=KEEP_KEY_JS, **private)
    deleted.then(lambda: gr.Textbox(value="", visible=False), None, link, **private)
    redraw(deleted)
    save.click(save_project, None, saved, api_name="save_project", api_visibility="undocumented").success(
        None, js=assets.download_js("project-file"), **private)
    redraw(load.upload(open_project_file, load, about, api_name="open_project_file", api_visibility="undocumented"))
    gr.api(project_key, api_name="project_key")
    gr.api(open_project, api_name="open_project")
    gr.api(list_runs, api_name="list_runs")
