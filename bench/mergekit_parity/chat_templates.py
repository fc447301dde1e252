"""Named chat templates: sparkmerge's texts against mergekit's, compared by what they render.

sparkmerge's templates (src/main/resources/io/sparkmerge/chat_templates/) are written from the public chat
formats, not copied; they must render every conversation of src/test/resources/chat_templates/conversations.json
exactly as mergekit's files of the same name do, with and without the generation prompt (errors included), in
transformers' Jinja environment (render.py there). One row per template.
"""
import importlib.resources
import os
import sys

NAMES = ["chatml", "llama3", "mistral", "alpaca", "exaone"]


def rows(repo):
    """[(case, dtype, compute, agreement)] for the parity table."""
    res = os.path.join(repo, "src", "test", "resources", "chat_templates")
    sys.path.insert(0, res)
    import render  # noqa: E402  (ours: transformers' environment)

    ours_dir = os.path.join(repo, "src", "main", "resources", "io", "sparkmerge", "chat_templates")
    theirs_dir = str(importlib.resources.files("mergekit._data.chat_templates"))
    conversations = os.path.join(res, "conversations.json")
    ours = render.render_all(conversations, ours_dir, NAMES)
    theirs = render.render_all(conversations, theirs_dir, NAMES)
    out = []
    for name in NAMES:
        pairs = [(a, b) for ca, cb in zip(ours[name], theirs[name]) for a, b in zip(ca, cb)]
        same = sum(a == b for a, b in pairs)
        errors = sum(b.startswith("ERROR") for _, b in pairs)
        first = next((f"; first difference: ours {a!r}, mergekit {b!r}" for a, b in pairs if a != b), "")
        out.append((f"chat_template {name}", "-", "-",
                    f"{len(pairs)} renders ({errors} raise in mergekit), {same} identical{first}"))
    return out
