"""One answer to "is this a stems job", for the learned schedule, stored clips and delivery."""

from __future__ import annotations

from bot.jobs import learning, operations
from bot.jobs.operations import STEM_MODES, is_stems
from bot.markdown import escape
from bot.quota.costs import CostTable


def test_every_stem_split_the_bot_can_start_is_a_stems_job() -> None:
    for mode in STEM_MODES:
        operation = operations.stems("clip", mode, escape("split it"))
        assert is_stems(operation.name)
        assert learning.prior_for("sonic", operation.name) is learning.STEMS_PRIOR


def test_no_other_priced_operation_is_a_stems_job() -> None:
    priced = {name for name, _ in CostTable().items()}
    stems = {name for name in priced if is_stems(name)}
    assert stems == {f"stems_{mode}" for mode in STEM_MODES}
    assert not is_stems("create_music")
    assert not is_stems("stems_")  # a prefix alone names no operation
