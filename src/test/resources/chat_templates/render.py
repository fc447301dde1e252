"""Renders chat templates as transformers does (jinja2's sandbox, trim_blocks, lstrip_blocks, loopcontrols,
raise_exception), for every conversation of a JSON file with add_generation_prompt false and true.

  python3 render.py CONVERSATIONS.json TEMPLATE_DIR NAME...    -> JSON {NAME: [[render_false, render_true], ...]}

A render that raises is written as "ERROR: <exception class>", so error behaviour is compared too.
Exit code 3 when jinja2 cannot be imported (the Java test skips then).
"""
import json
import sys

try:
    import jinja2
    import jinja2.ext
    from jinja2.sandbox import ImmutableSandboxedEnvironment
except ImportError:
    print("render.py: jinja2 is not importable", file=sys.stderr)
    sys.exit(3)


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.globals["raise_exception"] = raise_exception
    return env


def render(template, messages, generation_prompt):
    try:
        return template.render(messages=messages, add_generation_prompt=generation_prompt, bos_token="<s>",
                               eos_token="</s>")
    except jinja2.exceptions.TemplateError as e:
        return "ERROR: " + type(e).__name__


def render_all(conversations_file, template_dir, names):
    """{name: [[render without, render with the generation prompt] per conversation]}."""
    with open(conversations_file, encoding="utf-8") as f:
        conversations = json.load(f)
    env = environment()
    out = {}
    for name in names:
        with open(f"{template_dir}/{name}.jinja", encoding="utf-8") as f:
            template = env.from_string(f.read())
        out[name] = [[render(template, c["messages"], g) for g in (False, True)] for c in conversations]
    return out


if __name__ == "__main__":
    json.dump(render_all(sys.argv[1], sys.argv[2], sys.argv[3:]), sys.stdout, ensure_ascii=False, indent=1)
