"""The one template loader and its rules, against hostile template folders built on disk.

A template from a project, user or `review.promptDir` folder is read only as a regular file
inside its folder, reached without following any link, at most MAX_TEMPLATE_BYTES, in UTF-8;
anything else is refused with one message naming the file and the reason, and the shipped
template is not used in its place. Every rule is checked through both ways of walking to a
file (by open folder descriptors, and by lstat for systems without them).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from qwen_lsp import errors, prompts
from qwen_lsp.engine.review.prompt import review_templates
from qwen_lsp.prompts import (
    MAX_TEMPLATE_BYTES,
    PromptSources,
    Template,
    TemplateFolder,
    TemplateRefused,
    configured_folder,
    load_template,
    packaged_template,
)

pytestmark = pytest.mark.attack  # the hostile-repository suite: `pytest -m attack`

MARKER = "AWS_SECRET_ACCESS_KEY=planted-marker-7f3a"
LINK = "it is a symbolic link"


@pytest.fixture(autouse=True, params=["by-descriptor", "by-lstat"])
def walk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "by-descriptor" and not prompts._WALK_BY_FD:
        pytest.skip("this system cannot open a folder relative to another without links")
    monkeypatch.setattr(prompts, "_WALK_BY_FD", request.param == "by-descriptor")
    yield request.param


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file outside every template folder holding what must never reach a model."""
    path = tmp_path / "elsewhere" / "env"
    path.parent.mkdir()
    path.write_text(f"{MARKER}\n", "utf-8")
    return path


def project(tmp_path: Path) -> tuple[Path, Path]:
    """A workspace folder and its `.qwen-lsp/prompts/actions/` folder."""
    workspace = tmp_path / "ws"
    actions = workspace / ".qwen-lsp" / "prompts" / "actions"
    actions.mkdir(parents=True)
    return workspace, actions


def refusal(name: str, folders: Any) -> str:
    with pytest.raises(TemplateRefused) as refused:
        load_template(name, tuple(folders))
    message = str(refused.value)
    assert MARKER not in message
    assert "\n" not in message  # one line
    return message


def version_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


# -- what still works --------------------------------------------------------------------------


def test_project_then_user_then_shipped(tmp_path: Path):
    workspace, actions = project(tmp_path)
    user = tmp_path / "user"
    (user / "actions").mkdir(parents=True)
    (actions / "simplify.md").write_text("PROJECT {{code}}\n", "utf-8")
    (user / "actions" / "simplify.md").write_text("USER SIMPLIFY\n", "utf-8")
    (user / "actions" / "fix.md").write_text("USER FIX\n\n", "utf-8")
    folders = PromptSources(workspace=workspace, user_dir=user).folders()

    assert load_template("actions/simplify", folders).text == "PROJECT {{code}}"
    assert load_template("actions/fix", folders).text == "USER FIX"
    shipped = load_template("actions/document", folders)
    assert shipped == packaged_template("actions/document")
    assert "Give every function" in shipped.text


def test_versions_of_unchanged_files_stay_what_they_were(tmp_path: Path):
    # The version is part of every answer's cache key: the same file must give the same one.
    workspace, actions = project(tmp_path)
    (actions / "fix.md").write_text("Fix it.  \n\n", "utf-8")
    fix = load_template("actions/fix", PromptSources(workspace=workspace).folders())
    assert fix.version == version_of("Fix it.  ")  # only newlines were ever stripped here
    review = tmp_path / "review"
    review.mkdir()
    (review / "user.md").write_text("Review {{code}} \t\n", "utf-8")
    folder = configured_folder("review.promptDir", str(review), holds="review/")
    assert load_template("review/user", [folder]).version == version_of("Review {{code}}")
    shipped = prompts.packaged_prompts_dir() / "review" / "system.md"
    expected = version_of(shipped.read_text("utf-8").rstrip("\n"))
    assert load_template("review/system", [folder]).version == expected  # absent: shipped


def test_a_template_of_exactly_the_size_limit_is_read(tmp_path: Path):
    workspace, actions = project(tmp_path)
    (actions / "fix.md").write_bytes(b"x" * MAX_TEMPLATE_BYTES)
    fix = load_template("actions/fix", PromptSources(workspace=workspace).folders())
    assert len(fix.text) == MAX_TEMPLATE_BYTES


def test_a_workspace_reached_through_a_link_is_still_its_own(tmp_path: Path):
    # The folder a user opened may be a link (a checkout under ~/src -> /data/src): the rules
    # start below it.
    workspace, actions = project(tmp_path)
    (actions / "fix.md").write_text("PROJECT FIX", "utf-8")
    opened = tmp_path / "opened"
    opened.symlink_to(workspace, target_is_directory=True)
    fix = load_template("actions/fix", PromptSources(workspace=opened).folders())
    assert fix.text == "PROJECT FIX"


# -- links ---------------------------------------------------------------------------------------


def test_a_template_linked_to_a_file_outside_is_refused(tmp_path: Path, secret: Path):
    workspace, actions = project(tmp_path)
    (actions / "fix.md").symlink_to(secret)
    message = refusal("actions/fix", PromptSources(workspace=workspace).folders())
    assert message.startswith(f"qwen-lsp: refused the prompt template {actions / 'fix.md'} ")
    assert "(from the project)" in message and LINK in message


def test_a_template_linked_to_the_process_environment_is_refused(tmp_path: Path):
    review = tmp_path / "review"
    review.mkdir()
    (review / "user.md").symlink_to("/proc/self/environ")
    folder = configured_folder("review.promptDir", str(review), holds="review/")
    message = refusal("review/user", [folder])
    assert str(review / "user.md") in message and "(from review.promptDir)" in message
    assert LINK in message


def test_a_template_linked_to_another_file_of_its_folder_is_refused(tmp_path: Path):
    # Harmless in itself, but the rule has no exceptions to get wrong: no links at all.
    user = tmp_path / "user"
    (user / "actions").mkdir(parents=True)
    (user / "actions" / "fix.md").write_text("FIX", "utf-8")
    (user / "actions" / "simplify.md").symlink_to("fix.md")
    folders = PromptSources(user_dir=user).folders()
    assert load_template("actions/fix", folders).text == "FIX"
    message = refusal("actions/simplify", folders)
    assert str(user / "actions" / "simplify.md") in message and LINK in message
    assert "(from your user prompt folder)" in message


@pytest.mark.parametrize("linked", [".qwen-lsp", ".qwen-lsp/prompts", ".qwen-lsp/prompts/actions"])
def test_a_linked_folder_on_the_way_to_a_project_template_is_refused(
    tmp_path: Path, secret: Path, linked: str
):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    # The attacker's folder tree, outside the workspace, holding the link's target.
    outside = tmp_path / "outside"
    inner = outside.joinpath(*[".qwen-lsp", "prompts", "actions"][linked.count("/") + 1 :])
    inner.mkdir(parents=True)
    (inner / "fix.md").write_text(f"steal {MARKER}", "utf-8")
    link = workspace / linked
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(outside, target_is_directory=True)
    message = refusal("actions/fix", PromptSources(workspace=workspace).folders())
    assert f"the folder {link} on its way is a symbolic link" in message
    assert str(workspace / ".qwen-lsp" / "prompts" / "actions" / "fix.md") in message


def test_a_linked_folder_inside_a_user_folder_is_refused(tmp_path: Path, secret: Path):
    user = tmp_path / "user"
    user.mkdir()
    (user / "actions").symlink_to(secret.parent, target_is_directory=True)
    (secret.parent / "fix.md").write_text(MARKER, "utf-8")
    message = refusal("actions/fix", PromptSources(user_dir=user).folders())
    assert f"the folder {user / 'actions'} on its way is a symbolic link" in message


# -- names, size, encoding, kinds of file --------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "actions/../../elsewhere/env",
        "../elsewhere/env",
        "actions/..",
        "/etc/passwd",
        "actions//fix",
        "actions\\fix",
        ".hidden/fix",
        "C:/fix",
        "",
    ],
)
def test_a_name_that_could_leave_its_folder_is_refused(tmp_path: Path, secret: Path, name: str):
    user = tmp_path / "user"
    (user / "actions").mkdir(parents=True)
    message = refusal(name, PromptSources(user_dir=user).folders())
    assert f"refused the prompt template name {name!r}" in message
    with pytest.raises(TemplateRefused):
        packaged_template(name)  # the shipped folder has the same rule


def test_an_oversize_template_is_refused(tmp_path: Path):
    workspace, actions = project(tmp_path)
    (actions / "fix.md").write_bytes(b"x" * (MAX_TEMPLATE_BYTES + 1))
    message = refusal("actions/fix", PromptSources(workspace=workspace).folders())
    assert str(actions / "fix.md") in message and "larger than 64 KiB" in message


def test_a_template_that_is_not_utf8_is_refused(tmp_path: Path):
    workspace, actions = project(tmp_path)
    (actions / "fix.md").write_bytes("Réparer {{code}}".encode("latin-1"))
    message = refusal("actions/fix", PromptSources(workspace=workspace).folders())
    assert str(actions / "fix.md") in message and "not UTF-8 text" in message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_refused_without_being_opened(tmp_path: Path):
    # Opening a FIFO for reading blocks until a writer comes: it must never be opened.
    workspace, actions = project(tmp_path)
    os.mkfifo(actions / "fix.md")
    message = refusal("actions/fix", PromptSources(workspace=workspace).folders())
    assert "it is not a regular file (it is a named pipe)" in message


def test_a_folder_in_place_of_a_template_is_refused(tmp_path: Path):
    workspace, actions = project(tmp_path)
    (actions / "fix.md").mkdir()
    message = refusal("actions/fix", PromptSources(workspace=workspace).folders())
    assert "it is not a regular file (it is a folder)" in message


def test_a_file_in_place_of_a_folder_on_the_way_is_refused(tmp_path: Path):
    workspace = tmp_path / "ws"
    (workspace / ".qwen-lsp").mkdir(parents=True)
    (workspace / ".qwen-lsp" / "prompts").write_text("not a folder", "utf-8")
    message = refusal("actions/fix", PromptSources(workspace=workspace).folders())
    assert f"{workspace / '.qwen-lsp' / 'prompts'} on its way is not a folder" in message


def test_folders_without_templates_fall_through_to_the_shipped_ones(tmp_path: Path):
    workspace = tmp_path / "ws"
    workspace.mkdir()  # no .qwen-lsp at all
    user = tmp_path / "no-such-user-folder"
    fix = load_template("actions/fix", PromptSources(workspace=workspace, user_dir=user).folders())
    assert fix == packaged_template("actions/fix")


# -- review.promptDir ----------------------------------------------------------------------------


def test_a_relative_review_prompt_dir_is_refused():
    with pytest.raises(TemplateRefused) as refused:
        configured_folder("review.promptDir", "prompts/review", holds="review/")
    assert str(refused.value) == (
        "qwen-lsp: review.promptDir must be an absolute folder or start with ~, not "
        "'prompts/review'; its templates were not used"
    )
    assert isinstance(refused.value, errors.ConfigError)  # stops a review with exit 2


def test_a_review_prompt_dir_may_start_with_the_home_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "review").mkdir()
    (tmp_path / "review" / "system.md").write_text("MY REVIEWER", "utf-8")
    folder = configured_folder("review.promptDir", "~/review", holds="review/")
    assert folder.root == tmp_path / "review"
    assert load_template("review/system", [folder]).text == "MY REVIEWER"


def test_a_missing_review_prompt_dir_is_refused(tmp_path: Path):
    folder = configured_folder("review.promptDir", str(tmp_path / "gone"), holds="review/")
    message = refusal("review/user", [folder])
    assert f"the folder {tmp_path / 'gone'} does not exist" in message


def test_review_templates_come_from_the_setting_and_a_refused_one_stops(
    tmp_path: Path, secret: Path
):
    review = tmp_path / "review"
    review.mkdir()
    (review / "system.md").write_text("HOUSE REVIEWER\n", "utf-8")
    runtime: Any = SimpleNamespace(
        settings=SimpleNamespace(review=SimpleNamespace(prompt_dir=str(review)))
    )
    templates = review_templates(runtime)
    assert templates.system.text == "HOUSE REVIEWER"
    assert templates.user == packaged_template("review/user")
    (review / "user.md").symlink_to(secret)
    with pytest.raises(errors.ConfigError, match="it is a symbolic link"):
        review_templates(runtime)
    runtime.settings.review.prompt_dir = "review"  # relative: not looked up anywhere
    with pytest.raises(errors.ConfigError, match="must be an absolute folder"):
        review_templates(runtime)


# -- rendering -----------------------------------------------------------------------------------


def test_rendering_is_plain_substitution_with_no_tricks():
    template = Template(
        "t",
        "{{ path }} | {{x.__class__}} {{path.__class__}} {{0[0]}} {{path[0]}} {{path!r}} "
        "{{path:>30}} {x.__class__} {0} {% include '/etc/passwd' %} {{> /etc/passwd}} "
        "@/etc/passwd {{missing}} | {{code}}",
    )
    rendered = template.render({"path": "{{code}} {0}", "code": "print('{{path}}')"})
    assert rendered == (
        "{{code}} {0} | {{x.__class__}} {{path.__class__}} {{0[0]}} {{path[0]}} {{path!r}} "
        "{{path:>30}} {x.__class__} {0} {% include '/etc/passwd' %} {{> /etc/passwd}} "
        "@/etc/passwd {{missing}} | print('{{path}}')"
    )


def test_every_shipped_template_loads_under_the_same_name_rules():
    shipped = prompts.packaged_prompts_dir()
    names = [
        p.relative_to(shipped).with_suffix("").as_posix() for p in sorted(shipped.rglob("*.md"))
    ]
    assert "actions/explain.system" in names and "review/user" in names
    for name in names:
        assert packaged_template(name).text.strip()


def test_a_folder_holds_only_the_names_it_stands_for(tmp_path: Path):
    review = tmp_path / "review"
    (review / "actions").mkdir(parents=True)
    (review / "actions" / "fix.md").write_text("NOT FOR ACTIONS", "utf-8")
    folder = TemplateFolder(review, "review.promptDir", holds="review/")
    assert load_template("actions/fix", [folder]) == packaged_template("actions/fix")
