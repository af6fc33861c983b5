"""The shape of healthrec/: every import points down, views -> services -> policy -> core,
and no modules import each other in a circle (docs/architecture.md). A new module must be
placed in a layer here, so the rule cannot be forgotten."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("core", "policy", "services", "views")

# Modules whose name does not say their layer.
VIEWS = {"healthrec", "healthrec.cli", "healthrec.health", "healthrec.bodies", "healthrec.headers",
         "healthrec.openapi", "healthrec.urls"}
SERVICES = {
    "healthrec.demo", "healthrec.archives.locks", "healthrec.archives.legacy",
    "healthrec.access.requests", "healthrec.access.break_glass", "healthrec.access.consent_log",
    "healthrec.access.alerts",
    "healthrec.records.writes", "healthrec.records.reads", "healthrec.records.worklists",
    "healthrec.contracts.teams", "healthrec.contracts.follow",
    "healthrec.custody.moves", "healthrec.custody.transfers", "healthrec.custody.mergers",
    "healthrec.records.urgent",
    "healthrec.metrics.indicators", "healthrec.metrics.samples",
    "healthrec.keys.reseal",
    "healthrec.idempotency",
}
CORE = {
    "healthrec.settings", "healthrec.clock", "healthrec.db", "healthrec.errors", "healthrec.crypto",
    "healthrec.ids", "healthrec.paging", "healthrec.extensions", "healthrec.sheets", "healthrec.hints",
    "healthrec.openapi",
    "healthrec.audit.chain", "healthrec.audit.log", "healthrec.auth.roles", "healthrec.auth.user",
    "healthrec.regions.codes", "healthrec.regions.cache",
    "healthrec.archives.rules", "healthrec.archives.custody", "healthrec.access.transitions",
    "healthrec.access.grants", "healthrec.access.consents", "healthrec.records.kinds",
    "healthrec.contracts.rules", "healthrec.contracts.changes",
    "healthrec.records.schedule", "healthrec.records.thresholds", "healthrec.records.person",
    "healthrec.records.alerts",
    "healthrec.metrics.rates", "healthrec.metrics.exports",
    "healthrec.audit.pending",
}


def modules():
    """{module name: path} of every module in healthrec/."""
    found = {}
    for path in (ROOT / "healthrec").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def layer(module, path):
    leaf = module.rsplit(".", 1)[-1]
    if module in VIEWS or module.startswith("healthrec.web") or leaf in ("api", "views", "cli"):
        return "views"
    if leaf == "service" or module in SERVICES:
        return "services"
    if leaf == "policy":
        return "policy"
    if module in CORE or path.name == "__init__.py":
        return "core"
    return None


def imports(module, path, known):
    """The healthrec modules `module` imports, wherever in the file."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            names = {f"{base}.{alias.name}" for alias in node.names}
            found |= (names & set(known)) or {base}
    return {name for name in found if name in known and name != module}


def graph():
    known = modules()
    return known, {module: imports(module, path, known) for module, path in known.items()}


def test_every_module_has_a_layer():
    known, _ = graph()
    assert [module for module, path in sorted(known.items()) if layer(module, path) is None] == []


def test_imports_only_point_down():
    known, edges = graph()
    rank = {module: LAYERS.index(layer(module, path) or "views") for module, path in known.items()}
    upward = sorted(f"{module} ({layer(module, known[module])}) imports {target} ({layer(target, known[target])})"
                    for module, targets in edges.items() for target in targets
                    if rank[target] > rank[module] and not (known[module].name == "__init__.py"
                                                            and target.startswith(module + ".")))
    assert upward == []


def test_no_import_circle():
    _, edges = graph()
    circles, state = [], {}

    def visit(module, trail):
        state[module] = "open"
        for target in sorted(edges[module]):
            if state.get(target) == "open":
                circles.append(trail[trail.index(target):] + [target])
            elif target not in state:
                visit(target, trail + [target])
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert circles == []
