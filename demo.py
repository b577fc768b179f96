"""The Gradio app: a live classify tab for each data set whose kind of input has one (Draw for
digits, Hand signs for ASL letters), a Train tab, a Class tab and a Project tab.

    python demo.py                 # http://127.0.0.1:7860, its store a SQLite file in state/
    python demo.py --port 8080 --host 0.0.0.0
    python demo.py --database postgresql+psycopg://user:password@host/db

Models are loaded once, at import (`studio.models`); the store opens at start (`studio.projects`).
Each browser session works in a project (its key kept by the page) and classifies with the shipped
models until the project picks its own trained run or a saved weights file; nothing one project
does changes what another sees. Several processes: `deploy/serve`.

The API page's endpoints: /classify_digit, /classify_strokes, /classify_sign (with an optional
`model`, a weights name; /classify_sign also an optional `box`, x0,y0,x1,y1, and a fourth output,
the pixel model's answer: its first is the hand-shape model's where a hand was found, the
project's taught one if it has one, else the shipped letters model),
/teach_sign, /teach_train, /train, /use_model, /save_model (only with --save-to-weights),
/download_model, /download_onnx, /download_<noun>_onnx, /upload_model (a weights file brought back
as a run), /project_key, /open_project, /list_runs, /make_class, /join_class, /leave_class, /share_run,
/class_board, /class_overview. Callable but off the API page, as only the
page needs them: /choose_<noun>_model, /stop_training, /pick_run, /restore_shipped, /delete_run,
/teach_reset, /save_project, /open_project_file.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import threading

import gradio as gr
import torch

from classifier.inputs import landmarks
from studio import assets, class_tab, classify_tab, memory, models, project_panel, projects, train_tab
from studio.models import session_id
from studio.store import Limits


def end_session(request: gr.Request) -> None:
    """The page closed: stop its training run (its project stays in the store)."""
    models.SESSIONS.end(session_id(request))
    memory.trim()


# Uploads and downloads go through Gradio's cache: files older than an hour are deleted every 10
# minutes, so visitors cannot fill the server's disk with them (uploads are also bounded in size
# at launch: MAX_FILE_SIZE).
with gr.Blocks(title="Image classifier studio", delete_cache=(600, 3600)) as demo:
    gr.Markdown("# Image classifier studio\nMultilayer perceptrons on 28x28 images: draw a digit, "
                "show a hand sign, or train your own model and watch it learn.")
    for spec in models.TAB_SPECS:
        classify_tab.build(spec, demo)
    train_tab.build(demo)
    class_tab.build(demo)
    project_panel.build(demo)
    demo.load(None, js=assets.read("click_box.js"))
    demo.unload(end_session)

# A bounded queue: under a flood, extra requests are told the queue is full instead of piling up.
demo.queue(default_concurrency_limit=4, max_size=256)
MAX_FILE_SIZE = "25mb"  # generous for a phone photo; a larger upload is refused before it is stored


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Run the image classifier studio.")
    p.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    p.add_argument("--share", action="store_true", help="create a public share link")
    p.add_argument("--save-to-weights", action="store_true",
                   help="let visitors save runs into weights/ (off: they can only download them)")
    p.add_argument("--max-saved-files", type=int, default=models.Saving.max_files,
                   help="with --save-to-weights: how many saved files weights/ may hold (default %(default)s)")
    p.add_argument("--max-saved-mb", type=int, default=models.Saving.max_bytes // 1_000_000,
                   help="with --save-to-weights: their total size in MB (default %(default)s)")
    p.add_argument("--database", default=None,
                   help="the store's URL (default: a SQLite file in the state folder, "
                        f"${projects.STATE_DIR_ENV} or state/; postgresql+psycopg://... for several processes)")
    p.add_argument("--behind-proxy", action="store_true",
                   help="behind deploy/serve's load balancer: a client's address is its X-Forwarded-For")
    p.add_argument("--torch-threads", type=int, default=None,
                   help="threads a training run's tensor operations use (default: PyTorch's, one a core); "
                        "deploy/serve gives each of N processes its share of the cores")
    p.add_argument("--projects-per-hour", type=int, default=Limits.new_projects_per_hour,
                   help="new projects one client address may make an hour (default %(default)s)")
    args = p.parse_args(argv)
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    train_tab.WORKER.threads = args.torch_threads
    # The training process starts beside the server, so that the first run need not wait for it.
    threading.Thread(target=train_tab.WORKER.start, name="start-training-process", daemon=True).start()
    projects.configure(args.database or None, Limits(new_projects_per_hour=args.projects_per_hour))
    projects.store()   # open (and migrate) it now: a store that cannot be opened stops the start, not a request
    models.BEHIND_PROXY = args.behind_proxy
    landmarks.finder()   # loaded now, so that a machine where MediaPipe cannot start says so at once (the log)
    models.SAVING = models.Saving(args.save_to_weights, args.max_saved_files, args.max_saved_mb * 1_000_000)
    logging.basicConfig(level=logging.INFO)
    # Everything made so far (torch, the models, the Blocks: ~500,000 objects) lives as long as the
    # server: keep it out of the garbage collector's full passes, which otherwise walk it all.
    gc.freeze()
    memory.limit_arenas()
    demo.launch(server_name=args.host, server_port=args.port, share=args.share, show_error=True,
                max_file_size=MAX_FILE_SIZE, css=assets.read("app.css"))


if __name__ == "__main__":
    main()
