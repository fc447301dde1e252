"""Prints, as JSON, the operators an Airflow DAG file creates, with their keyword arguments evaluated.

Used by AirflowDagsTest where Airflow itself cannot be installed (Debian 12 has no package, and there is no
PyPI here): the file is parsed with `ast`, never imported. Module-level assignments are evaluated in order;
an expression is evaluated when it uses only literals, f-strings, names assigned before, dicts (with **),
lists, `x if c else y`, `+`, os.path.basename/dirname and str.join, else it becomes "<unevaluated>".
Output: {"imports": [...], "constants": {...}, "operators": [{"type": ..., "kwargs": {...}}], "dependencies": [[a, b]]}
"""
import ast
import json
import os
import sys

UNKNOWN = "<unevaluated>"


class Unknown(Exception):
    pass


def ev(node, env):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in env:
            return env[node.id]
        raise Unknown(node.id)
    if isinstance(node, ast.JoinedStr):
        return "".join(str(ev(v.value, env)) if isinstance(v, ast.FormattedValue) else ev(v, env) for v in node.values)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [ev(e, env) for e in node.elts]
    if isinstance(node, ast.Dict):
        out = {}
        for k, v in zip(node.keys, node.values):
            if k is None:
                out.update(ev(v, env))
            else:
                out[ev(k, env)] = ev(v, env)
        return out
    if isinstance(node, ast.IfExp):
        return ev(node.body, env) if ev(node.test, env) else ev(node.orelse, env)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return ev(node.left, env) + ev(node.right, env)
    if isinstance(node, ast.Call):
        name = ast.unparse(node.func)
        args = [ev(a, env) for a in node.args]
        if name == "os.path.basename":
            return os.path.basename(*args)
        if name == "os.path.dirname":
            return os.path.dirname(*args)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "join" and isinstance(node.func.value, ast.Constant):
            return node.func.value.value.join(*args)
    raise Unknown(ast.unparse(node))


def value(node, env):
    try:
        return ev(node, env)
    except Unknown:
        return UNKNOWN


def main(path):
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    env, imports, operators, deps, names = {}, [], [], [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imports += [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            imports += [a.name for a in node.names]
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            env[stmt.targets[0].id] = value(stmt.value, env)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("Operator"):
            operators.append({"type": ast.unparse(node.func), "kwargs": {k.arg: value(k.value, env) for k in node.keywords}})
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and len(node.targets) == 1:
            names[ast.unparse(node.targets[0])] = next((k.value.value for k in node.value.keywords
                                                        if k.arg == "task_id" and isinstance(k.value, ast.Constant)), None)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift):
            deps.append([ast.unparse(node.left), ast.unparse(node.right)])
    deps = [[names.get(a, a), names.get(b, b)] for a, b in deps]
    constants = {k: v for k, v in env.items() if isinstance(v, (str, int, float, dict, list))}
    print(json.dumps({"imports": imports, "constants": constants, "operators": operators, "dependencies": deps}, indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
