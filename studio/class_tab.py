"""The Class tab: joining a class with its code and a name, the class's board, making a class, and
the teacher's page (students, every run with a small curve, the boards with Hide, a challenge, and
one run opened: curves, confusion matrix, settings), kept up to date every second. The API's
/make_class, /join_class, /leave_class, /class_board, /class_overview.

The teacher's secret reaches the page in a teacher link's `#teacher=...` (a URL's fragment is never
sent to a server) and stays in that browser's local storage; the page sends it with each teacher
request, and the server checks it every time (`classroom.taught_by`).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import gradio as gr

from classifier import data
from classifier.training.report import Report

from . import classroom, models, plots, project_panel, projects
from .store import ClassRow
from .store.classes import JOIN_HOURS

TEACHER_STORAGE = "classifier-teacher"
# The teacher secret (a teacher link's, which then replaces the kept one) and a join code from the address.
READ_JS = f"""() => {{
  const t = location.hash.match(/teacher=([A-Za-z0-9_-]{{16,128}})/);
  const j = location.hash.match(/join=([A-Za-z0-9-]{{4,32}})/);
  if (t) localStorage.setItem({TEACHER_STORAGE!r}, t[1]);
  if ((t || j) && !location.hash.includes('project='))
    history.replaceState(null, '', location.pathname + location.search);
  return [t ? t[1] : (localStorage.getItem({TEACHER_STORAGE!r}) || ''), j ? j[1] : ''];
}}"""
KEEP_JS = f"""(key) => {{
  if (key) localStorage.setItem({TEACHER_STORAGE!r}, key); else localStorage.removeItem({TEACHER_STORAGE!r});
}}"""
TEACHER_LINK_JS = """(key) => location.origin + location.pathname + '#teacher=' + key"""
STUDENT_LINK_JS = """(code) => code ? location.origin + location.pathname + '#join=' + code : ''"""
# Clicks in the teacher's tables: a row opens its run; a link hides, shows or removes.
CLICKS_JS = """
element.addEventListener('click', (e) => {
  const act = e.target.closest('[data-action]');
  if (act) {
    e.preventDefault();
    if (act.dataset.action === 'remove' &&
        !confirm('Remove ' + act.dataset.name + ' from the class? Their project stays theirs.')) return;
    trigger('click', {action: act.dataset.action, run: act.dataset.run || '', member: act.dataset.member || ''});
    return;
  }
  const row = e.target.closest('tr[data-run]');
  if (row) trigger('click', {action: 'open', run: row.dataset.run, member: ''});
});
"""
TEACHER_EVERY = 1.0    # seconds between the teacher page's looks at the store
STUDENT_EVERY = 5.0


def _fail(e: Exception) -> gr.Error:
    return gr.Error(str(e))


def _teacher_class(key: str) -> ClassRow:
    """The class whose teacher key this is; a message on the page if none."""
    try:
        return classroom.taught_by(key)
    except classroom.ClassroomError as e:
        raise _fail(e) from None


def _code(c: ClassRow) -> str:
    return f"{c.join_code[:4]}-{c.join_code[4:]}"


# --------------------------------------------------------------------------------- students

def student_view(request: gr.Request) -> tuple[Any, ...]:
    """The student's part of the tab: what class they are in (if any), the join form or Leave, the board."""
    pid = projects.bound(models.session_id(request))
    found = classroom.membership(pid)
    if found is None:
        return ("You are in no class. Your teacher gives you a code: type it with a name for the class to see.",
                gr.Row(visible=True), gr.Button(visible=False), "", gr.Timer(active=False))
    c, name = found
    challenge = classroom.Challenge.of(c.challenge)
    about = (f"You are in **{c.name}** as **{name}**. The class sees your name and your runs' figures on its "
             "board, never your project; the Train tab's *Share with class* lets classmates use a run of yours."
             + (f"\n\n**Challenge**: {challenge.words()}." if challenge else ""))
    board = classroom.board_html(classroom.boards(c, projects.store().class_runs(c.id, curves=False)))
    return about, gr.Row(visible=False), gr.Button(visible=True), board, gr.Timer(active=True)


def join_class(code: str, name: str, request: gr.Request) -> str:
    """Join a class: this session's project then belongs to it, under `name`.

    Args:
        code: the class's join code (as the teacher reads it out: "ABCD-EFGH")
        name: the name the class sees (a first name, or a nickname)
    Returns:
        the class's name
    """
    try:
        joined = classroom.join(models.project_of(request), code, name, models.client(request))
    except (classroom.ClassroomError, projects.ProjectError) as e:
        raise _fail(e) from None
    return joined.name


def leave_class(request: gr.Request) -> str:
    """Leave this session's class (the project, its runs and models stay yours)."""
    left = classroom.leave(projects.bound(models.session_id(request)))
    return "You left the class." if left else "You were in no class."


def class_board(request: gr.Request) -> dict[str, Any]:
    """This session's class's boards: each student's best run per data set, and the challenge's.

    Returns:
        {"class": name, "challenge": its data set and limits or None, "boards": [{"title", "entries": [{"rank",
        "student", "run", "dataset", "test_accuracy", "preset", "hidden_sizes", "epochs", "seconds",
        "finished_at"}]}]}; {"class": None} when not in a class
    """
    found = classroom.membership(projects.bound(models.session_id(request)))
    if found is None:
        return {"class": None, "challenge": None, "boards": []}
    c = found[0]
    titled = classroom.boards(c, projects.store().class_runs(c.id, curves=False))
    return {"class": c.name, "challenge": c.challenge,
            "boards": [{"title": t, "entries": [e.as_dict() for e in entries]} for t, entries in titled]}


# --------------------------------------------------------------------------------- teachers

def make_class(name: str, request: gr.Request) -> dict[str, str]:
    """Make a class. Its teacher key is returned once and kept nowhere in the clear: whoever holds it
    runs the class, so keep it private.

    Args:
        name: the class's name, shown to its students
    Returns:
        {"name", "join_code" (for students), "teacher_key" (for /class_overview)}
    """
    try:
        made, key = classroom.make(name, models.client(request))
    except classroom.ClassroomError as e:
        raise _fail(e) from None
    return {"name": made.name, "join_code": _code(made), "teacher_key": key}


def class_overview(teacher_key: str) -> dict[str, Any]:
    """What the teacher's page shows: the class, its students and every run of theirs.

    Args:
        teacher_key: the class's teacher key (from /make_class)
    Returns:
        {"class", "join_code", "open", "challenge", "students": [{"name", "runs", "taught"}], "runs":
        [{"id", "student", "number", "dataset", "preset", "test_accuracy", "status", "finished_at",
        "hidden", "shared"}]}
    """
    c = _teacher_class(teacher_key)
    return {"class": c.name, "join_code": _code(c), "open": c.open, "challenge": c.challenge,
            "students": [{"name": m.name, "runs": m.runs, "taught": m.taught}
                         for m in projects.store().members(c.id)],
            "runs": [{"id": r.id, "student": r.student, "number": r.number, "dataset": r.dataset, "preset": r.preset,
                      "test_accuracy": r.accuracy, "status": r.status, "finished_at": r.finished_at,
                      "hidden": r.hidden, "shared": r.shared}
                     for r in projects.store().class_runs(c.id, curves=False)]}


def _header(c: ClassRow) -> str:
    joins = (f"open until {time.strftime('%a %H:%M', time.localtime(c.joins_until))}" if c.open else "closed")
    return (f"## {c.name}\nJoin code **`{_code(c)}`** (joining: {joins}). Students type it with a name in this "
            "app's Class tab, or open the student link.")


def _known(key: str) -> ClassRow | None:
    """The class of a teacher key the page kept (None, with a warning, if it opens none)."""
    if not key:
        return None
    try:
        return classroom.taught_by(key)
    except classroom.ClassroomError as e:
        gr.Warning(str(e))
        return None


def _page(key: str, c: ClassRow | None, seen: str = "") -> tuple[Any, ...]:
    """The teacher's page of class `c` (None: none): (the key to keep, visible, header, students, runs,
    boards, timer, what was drawn); each view gr.skip() where it is as `seen` drew it."""
    if c is None:
        cleared = (gr.skip(),) * 4 if not key else ("",) * 4
        return ("", gr.Column(visible=False), *cleared, gr.Timer(active=False), "")
    runs = projects.store().class_runs(c.id)
    views = (_header(c), classroom.students_html(projects.store().members(c.id)), classroom.runs_html(runs),
             classroom.board_html(classroom.boards(c, runs, with_hidden=True), teacher=True))
    drawn = hashlib.sha256("\0".join(views).encode()).hexdigest()
    if drawn == seen:
        return (gr.skip(),) * 7 + (seen,)
    return (key, gr.Column(visible=True), *views, gr.Timer(active=True), drawn)


def teacher_page(key: str, seen: str = "") -> tuple[Any, ...]:
    """The teacher's page for `key` (what `_page` says), as the page looks at the store again."""
    return _page(key, _known(key), seen)


def open_teacher_page(key: str, join_code: str) -> tuple[Any, ...]:
    """The page opened (or a class was made): the teacher's page if it holds a teacher key, the
    challenge's settings in its form and the class's code; a join code from the address goes into
    the join form."""
    c = _known(key)
    challenge = gr.skip(), gr.skip(), gr.skip(), gr.skip()
    if c is not None:
        set_ = c.challenge or {}
        challenge = (set_.get("dataset") or "none", set_.get("max_epochs"), set_.get("max_hidden"),
                     set_.get("max_seconds"))
    return (*_page(key, c), *challenge, join_code or gr.skip(), _code(c) if c is not None else "")


def teacher_click(key: str, evt: gr.EventData) -> tuple[Any, ...]:
    """A click in the teacher's tables: open a run (its curves, confusion matrix, settings), hide or
    show it on the boards, or remove a student."""
    c = _teacher_class(key)
    action = getattr(evt, "_data", {}) or {}
    what, run, member = action.get("action"), str(action.get("run") or ""), str(action.get("member") or "")
    if what == "remove" and member.isdigit():
        classroom.remove(c.id, int(member))
        return gr.skip(), gr.skip(), gr.skip(), ""
    if not run.isdigit():
        return gr.skip(), gr.skip(), gr.skip(), gr.skip()
    if what in ("hide", "show"):
        classroom.hide(c.id, int(run), what == "hide")
        return gr.skip(), gr.skip(), gr.skip(), ""
    found = projects.store().class_run(c.id, int(run))
    if found is None:
        raise gr.Error("That run is not in this class any more.")
    spec = data.get_spec(found.dataset)
    report = found.report or {}
    confusion = ""
    if report.get("confusion") is not None:
        r = Report.from_dict(report)
        confusion = plots.confusion_html(r.confusion, r.classes)
    curves = plots.chart(plots.curves_spec(found.points, f"{found.student} · run #{found.number}",
                                           spec.validation_note))
    return curves, classroom.settings_md(found), confusion, gr.skip()


def set_challenge(key: str, dataset: str, max_epochs: float | None, max_hidden: float | None,
                  max_seconds: float | None) -> str:
    c = _teacher_class(key)
    if not dataset or dataset == "none":
        classroom.set_challenge(c.id, None)
        return ""
    limits = [("epochs", max_epochs), ("hidden units", max_hidden), ("seconds", max_seconds)]
    for what, value in limits:
        if value is not None and value <= 0:
            raise gr.Error(f"A limit on {what} must be more than 0 (or left empty: no limit).")
    classroom.set_challenge(c.id, classroom.Challenge(
        dataset, float(max_epochs) if max_epochs else None, int(max_hidden) if max_hidden else None,
        float(max_seconds) if max_seconds else None))
    return ""   # the next look at the store redraws the page


def set_joining(key: str, open_: bool) -> str:
    c = _teacher_class(key)
    classroom.set_open(c.id, open_)
    return ""


# ------------------------------------------------------------------------------------ page

def build(demo: gr.Blocks) -> None:
    """The Class tab and its events; call before `project_panel.build` (it registers a project view)."""
    private = {"api_visibility": "private"}
    with gr.Tab("Class", elem_id="class") as tab:
        with gr.Column(visible=False, elem_id="class-teacher") as teacher_box:
            header = gr.Markdown(elem_id="teacher-header")
            link = gr.Textbox(label="⚠️ Your teacher link, shown this once: copy it somewhere safe and keep it private. "
                              "It opens this page from any browser; whoever has it runs the class.", visible=False,
                              interactive=False, buttons=["copy"], elem_id="class-teacher-link")
            student_link = gr.Textbox(label="Student link: it opens this app with the code filled in",
                                      interactive=False, buttons=["copy"], elem_id="teacher-student-link")
            class_code = gr.Textbox(visible=False)
            with gr.Row():
                close = gr.Button("Close joining", size="sm", elem_id="teacher-close")
                reopen = gr.Button(f"Open joining ({JOIN_HOURS:g} h)", size="sm", elem_id="teacher-open")
                forget = gr.Button("Forget this class on this browser", size="sm", elem_id="class-forget")
            with gr.Row(equal_height=True):
                ch_data = gr.Dropdown(["none", *data.DATASETS], value="none", label="Challenge: data set",
                                      elem_id="teacher-challenge", scale=2)
                ch_epochs = gr.Number(None, label="max epochs", minimum=0, elem_id="teacher-max-epochs")
                ch_hidden = gr.Number(None, label="max hidden units", minimum=0, precision=0)
                ch_seconds = gr.Number(None, label="max seconds", minimum=0)
                ch_set = gr.Button("Set challenge", elem_id="teacher-set-challenge", min_width=100)
            gr.Markdown("### Board")
            teacher_board = gr.HTML(elem_id="teacher-board", apply_default_css=False, js_on_load=CLICKS_JS)
            gr.Markdown("### Students")
            students = gr.HTML(elem_id="teacher-students", apply_default_css=False, js_on_load=CLICKS_JS)
            gr.Markdown("### Runs (click one to open it)")
            runs = gr.HTML(elem_id="teacher-runs", apply_default_css=False, js_on_load=CLICKS_JS)
            with gr.Row():
                with gr.Column(scale=3):
                    curves = gr.Plot(show_label=False, elem_id="teacher-curves")
                with gr.Column(scale=2):
                    settings = gr.Markdown(elem_id="teacher-settings")
                    confusion = gr.HTML(elem_id="teacher-confusion", apply_default_css=False)
        status = gr.Markdown(elem_id="class-status")
        with gr.Row(equal_height=True, visible=False) as join_row:
            code = gr.Textbox(label="Join code", placeholder="ABCD-EFGH", max_length=20, elem_id="class-code",
                              scale=1)
            name = gr.Textbox(label="Your name in the class", max_length=classroom.MAX_NAME, elem_id="class-name",
                              scale=2)
            join = gr.Button("Join", variant="primary", elem_id="class-join", min_width=80)
        leave = gr.Button("Leave the class", size="sm", visible=False, elem_id="class-leave")
        board = gr.HTML(elem_id="class-board", apply_default_css=False)
        student_timer = gr.Timer(STUDENT_EVERY, active=False)

        with gr.Accordion("Teach a class", open=False, elem_id="class-teach"):
            gr.Markdown("Make a class for your students: they join with a short code; your page shows their "
                        "runs and a leaderboard. You get a teacher link, once: keep it (whoever has it runs the "
                        "class). This browser remembers it until you press Forget.")
            with gr.Row(equal_height=True):
                class_name = gr.Textbox(label="Class name", max_length=80, elem_id="class-new-name", scale=3)
                make = gr.Button("Make a class", elem_id="class-make", min_width=120)

        teacher_timer = gr.Timer(TEACHER_EVERY, active=False)
        key = gr.Textbox(visible=False, elem_id="class-key")   # inside the tab: the tabs stay one row
        seen = gr.State("")

    student_parts = [status, join_row, leave, board, student_timer]
    project_panel.on_project(student_view, student_parts, tab=tab)   # drawn once the page's project is known
    student_timer.tick(student_view, None, student_parts, show_progress="hidden", **private)
    join.click(join_class, [code, name], None, api_name="join_class").success(
        student_view, None, student_parts, **private)
    leave.click(leave_class, None, status, api_name="leave_class").success(student_view, None, student_parts,
                                                                           **private)

    page = [key, teacher_box, header, students, runs, teacher_board, teacher_timer, seen]
    challenge = [ch_data, ch_epochs, ch_hidden, ch_seconds]
    opened = demo.load(open_teacher_page, [key, code], [*page, *challenge, code, class_code], js=READ_JS, **private)
    opened.then(None, key, None, js=KEEP_JS, **private)
    opened.then(None, class_code, student_link, js=STUDENT_LINK_JS, **private)
    teacher_timer.tick(teacher_page, [key, seen], page, show_progress="hidden", **private)

    def made(name: str, request: gr.Request) -> tuple[str, Any]:
        found = make_class(name, request)
        return found["teacher_key"], gr.Textbox(visible=True)

    made_event = make.click(made, class_name, [key, link], **private)
    made_event.success(None, key, link, js=TEACHER_LINK_JS, **private)
    made_event.success(None, key, None, js=KEEP_JS, **private).then(
        open_teacher_page, [key, code], [*page, *challenge, code, class_code], **private).then(
        None, class_code, student_link, js=STUDENT_LINK_JS, **private)
    forget.click(lambda: ("", gr.Column(visible=False), gr.Timer(active=False), gr.Textbox(value="", visible=False)),
                 None, [key, teacher_box, teacher_timer, link], **private).then(None, key, None, js=KEEP_JS, **private)

    def again(event: Any) -> None:
        event.success(teacher_page, [key, seen], page, **private)

    again(close.click(lambda k: set_joining(k, False), key, None, **private))
    again(reopen.click(lambda k: set_joining(k, True), key, None, **private))
    again(ch_set.click(set_challenge, [key, *challenge], None, **private))
    for table in (teacher_board, students, runs):
        again(table.click(teacher_click, key, [curves, settings, confusion, seen], **private))
    with tab:   # (an Api block outside the tab would end the row of tabs)
        gr.api(class_board, api_name="class_board")
        gr.api(make_class, api_name="make_class")
        gr.api(class_overview, api_name="class_overview")
