"""Fail when code outside conversations/services.py writes conversation rows.

DESIGN.md's one rule — every change to a conversation goes through one service
function — only holds if nothing else calls `.save()`, `.update()`,
`.delete()`, `.create()` or `bulk_*` on Conversation, Message, Attachment,
ConversationTag or ConversationDue. This reads the source (no import of the checked code) and
reports each such call:

- `Conversation.objects....update()` and every other manager or queryset write;
- writes through related managers that hold those rows
  (`customer.conversations.update()`, `conversation.messages.create()`,
  `conversation.tags.add()`), the names taken from the models themselves;
- `.save()` / `.delete()` on a name annotated with, built from or named after
  one of the models (`conversation: Conversation`, `msg = Message(...)`,
  `for message in ...`);
- raw SQL that updates, inserts into or deletes from their tables.

It is a lint, not a proof: a write through an unannotated name that looks like
something else slips by, which is why review still matters. A line that must
write anyway (none should) carries `# check-writes: ok <why>`.

Usage: python tools/check_writes.py [PATH ...]   (default: src)
"""

from __future__ import annotations

import ast
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PROTECTED_MODELS = ("Conversation", "Message", "Attachment", "ConversationTag", "ConversationDue")

# Paths (relative, with forward slashes) that are allowed to write those rows.
ALLOWED = (
    re.compile(r"(^|/)frontdesk/conversations/services\.py$"),
    re.compile(r"(^|/)frontdesk/conversations/services/[^/]+\.py$"),
    re.compile(r"(^|/)migrations/[^/]+\.py$"),
)

QUERYSET_WRITES = frozenset(
    {
        "update",
        "delete",
        "create",
        "get_or_create",
        "update_or_create",
        "bulk_create",
        "bulk_update",
    }
)
RELATED_WRITES = QUERYSET_WRITES | {"add", "remove", "set", "clear"}
INSTANCE_WRITES = frozenset({"save", "delete"})


def _with_async(names: Iterable[str]) -> frozenset[str]:
    return frozenset(name for base in names for name in (base, f"a{base}"))


MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})

_WRITES = _with_async(RELATED_WRITES | INSTANCE_WRITES)
_INSTANCE_WRITES = _with_async(INSTANCE_WRITES)

PRAGMA = re.compile(r"#\s*check-writes:\s*ok\s+\S")


@dataclass(frozen=True)
class Targets:
    """What counts as a protected write, read off the models."""

    models: frozenset[str]
    accessors: frozenset[str]
    tables: frozenset[str]
    variable_name: re.Pattern[str] = field(
        default=re.compile(r"(^|_)(conv|conversation|msg|message|attachment|conversation_tag)$")
    )

    @property
    def sql(self) -> re.Pattern[str]:
        tables = "|".join(sorted(re.escape(table) for table in self.tables))
        return re.compile(rf"(?i)\b(update|insert\s+into|delete\s+from)\s+[\"`]?({tables})\b[\"`]?")


def protected_targets() -> Targets:
    """Model names, related-manager names and tables, from the Django models."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontdesk.settings")
    import django
    from django.apps import apps

    django.setup()
    models = [apps.get_model("conversations", name) for name in PROTECTED_MODELS]
    accessors: set[str] = set()
    for model in models:
        for model_field in model._meta.get_fields():
            if not (model_field.is_relation and model_field.concrete):
                continue
            remote = model_field.remote_field
            if remote is None:
                continue
            # The reverse side of a foreign key from a protected model holds protected rows.
            if model_field.many_to_one or model_field.one_to_one or model_field.many_to_many:
                name = remote.get_accessor_name()
                if name and not remote.hidden:
                    accessors.add(name)
            # Both sides of a many-to-many write the protected through-rows.
            if model_field.many_to_many:
                accessors.add(model_field.name)
    return Targets(
        models=frozenset(model.__name__ for model in models),
        accessors=frozenset(accessors),
        tables=frozenset(model._meta.db_table for model in models),
    )


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column + 1}: {self.message}"


def is_allowed(path: str) -> bool:
    normalized = path.replace(os.sep, "/")
    return any(pattern.search(normalized) for pattern in ALLOWED)


def _chain(node: ast.expr) -> Iterator[ast.expr]:
    """The receiver chain of `a.b(c).d`: d's receiver, then b's call, then a."""
    while True:
        yield node
        if isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            return


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _annotation_names(annotation: ast.expr | None) -> set[str]:
    if annotation is None:
        return set()
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return set()
    names: set[str] = set()
    for node in ast.walk(annotation):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
    return names


def returning_functions(tree: ast.AST, models: Iterable[str]) -> set[str]:
    """Functions and methods whose return annotation names a protected model."""
    wanted = set(models)
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and _annotation_names(node.returns) & wanted
    }


class _Checker(ast.NodeVisitor):
    def __init__(self, path: str, source: str, targets: Targets, returning: frozenset[str]) -> None:
        self.path = path
        self.returning = returning
        self.lines = source.splitlines()
        self.targets = targets
        self.violations: list[Violation] = []
        # Names known to hold protected rows, querysets or managers; one set per scope.
        self.scopes: list[set[str]] = [set()]

    # --- what a name or expression holds ---

    def _origin(self, node: ast.expr) -> str | None:  # noqa: PLR0911 - one exit per origin
        """Which protected rows `node` yields, following method calls back to their source.

        `Conversation.objects.filter(...)`, `Message(...)`, `customer.conversations.all()`
        and a name bound to any of those all count; `conversation.customer` does not,
        since a plain attribute leads to some other row.
        """
        previous: ast.expr | None = None
        for link in _chain(node):
            if isinstance(link, ast.Call) and _callee(link) in self.returning:
                return f"{_callee(link)}()"
            if isinstance(link, ast.Name):
                if link.id in self.targets.models:
                    via_manager = isinstance(previous, ast.Attribute) and previous.attr in MANAGERS
                    if via_manager or isinstance(previous, ast.Call):
                        return link.id
                if link.id in self.scopes[-1]:
                    return link.id
                return None
            if isinstance(link, ast.Attribute):
                if link.attr in self.targets.accessors:
                    return f".{link.attr}"
                called = isinstance(previous, ast.Call) and previous.func is link
                if not called and link.attr not in MANAGERS:
                    return None
            previous = link
        return None

    def _named_like_rows(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name) and self.targets.variable_name.search(node.id):
            return node.id
        if isinstance(node, ast.Attribute) and self.targets.variable_name.search(node.attr):
            return node.attr
        return None

    # --- scopes and bindings ---

    def _bind(self, target: ast.expr, protected: bool) -> None:
        if isinstance(target, ast.Name):
            if protected:
                self.scopes[-1].add(target.id)
            else:
                self.scopes[-1].discard(target.id)

    def _annotated_protected(self, annotation: ast.expr | None) -> bool:
        return bool(_annotation_names(annotation) & self.targets.models)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._visit_function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._visit_function(node)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        scope = set(self.scopes[-1])
        arguments = node.args
        for argument in (
            *arguments.posonlyargs,
            *arguments.args,
            *arguments.kwonlyargs,
            *(a for a in (arguments.vararg, arguments.kwarg) if a is not None),
        ):
            if self._annotated_protected(argument.annotation):
                scope.add(argument.arg)
            else:
                scope.discard(argument.arg)
        self.scopes.append(scope)
        for statement in node.body:
            self.visit(statement)
        self.scopes.pop()

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        protected = self._origin(node.value) is not None
        for target in node.targets:
            self._bind(target, protected)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        protected = self._annotated_protected(node.annotation)
        if node.value is not None:
            protected = protected or self._origin(node.value) is not None
        self._bind(node.target, protected)

    def visit_For(self, node: ast.For) -> None:
        self.visit(node.iter)
        self._bind(node.target, self._origin(node.iter) is not None)
        for statement in (*node.body, *node.orelse):
            self.visit(statement)

    # --- the checks ---

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        if not isinstance(node.func, ast.Attribute):
            return
        method = node.func.attr
        receiver = node.func.value
        if method not in _WRITES:
            return
        origin = self._origin(receiver)
        if origin is None and method in _INSTANCE_WRITES:
            origin = self._named_like_rows(receiver)
        if origin is not None:
            self._report(node, f"{origin}.{method}() writes {', '.join(PROTECTED_MODELS)} rows")

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and self.targets.sql.search(node.value):
            self._report(node, "raw SQL writes a protected table")

    def _report(self, node: ast.expr, message: str) -> None:
        line = self.lines[node.lineno - 1] if node.lineno <= len(self.lines) else ""
        if PRAGMA.search(line):
            return
        self.violations.append(
            Violation(
                self.path,
                node.lineno,
                node.col_offset,
                f"{message} outside conversations/services.py",
            )
        )


def check_source(
    source: str, path: str, targets: Targets, returning: Iterable[str] = ()
) -> list[Violation]:
    """The protected writes in one module's source; none for allowed paths.

    `returning` names functions known (from other modules) to return protected rows.
    """
    if is_allowed(path):
        return []
    tree = ast.parse(source, filename=path)
    known = frozenset(returning) | returning_functions(tree, targets.models)
    checker = _Checker(path, source, targets, known)
    checker.visit(tree)
    return checker.violations


def python_files(paths: Sequence[str]) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            yield path
        else:
            yield from sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)


def main(argv: Sequence[str] | None = None) -> int:
    paths = list(argv if argv is not None else sys.argv[1:]) or ["src"]
    sys.path.insert(0, "src")
    targets = protected_targets()
    files = list(python_files(paths))
    sources = {file: file.read_text(encoding="utf-8") for file in files}
    # Functions anywhere in the tree that hand out protected rows (access_conversation,
    # add_reply, ...): what their callers get back may not be saved either.
    returning: set[str] = set()
    for file in {*files, *python_files(["src"])}:
        source = sources.get(file) or file.read_text(encoding="utf-8")
        returning |= returning_functions(ast.parse(source, filename=str(file)), targets.models)
    violations = [
        violation
        for file, source in sources.items()
        for violation in check_source(source, str(file), targets, returning)
    ]
    for violation in violations:
        print(violation)
    if violations:
        print(
            f"check_writes: {len(violations)} write(s) to {', '.join(PROTECTED_MODELS)} "
            "outside conversations/services.py",
            file=sys.stderr,
        )
        return 1
    print(f"check_writes: {len(files)} files, no writes outside conversations/services.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
