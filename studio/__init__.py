"""The Gradio app's parts: `models` (what is served, per browser session), one module per tab.

`demo.py` assembles them into the module-level `demo`.
"""
