"""The brain borrows the voice's cores for reading a prompt only when no other program
was keeping them busy."""

from __future__ import annotations

from pathlib import Path

from bot.brain.cpu_share import CpuShare, busy_cpu_seconds


class Machine:
    """A clock, the machine's busy CPU seconds and this process's own CPU seconds."""

    def __init__(self):
        self.t = self.busy = self.own = 0.0

    def run(self, seconds: float, *, ours: float = 0.0, others: float = 0.0) -> None:
        self.t += seconds
        self.own += ours * seconds
        self.busy += (ours + others) * seconds

    def share(self) -> CpuShare:
        return CpuShare(busy=lambda: self.busy, own=lambda: self.own, clock=lambda: self.t)


def test_free_cores_are_borrowed_even_while_we_work():
    m = Machine()
    share = m.share()
    m.run(3.0, ours=1.8)  # our own answer and voice
    assert share.lend() and share.others_cores == 0.0


def test_busy_cores_are_left_alone_until_they_are_free_again():
    m = Machine()
    share = m.share()
    m.run(2.0, ours=0.5, others=1.2)  # a game or a compile on the other core
    assert not share.lend() and abs(share.others_cores - 1.2) < 1e-9
    m.run(0.05, others=0.0)  # too short to judge: the last decision stands
    assert not share.lend()
    m.run(2.0, ours=1.0, others=0.1)
    assert share.lend()


def test_without_proc_stat_the_cores_are_borrowed(tmp_path: Path):
    assert busy_cpu_seconds(tmp_path / "missing") is None
    assert CpuShare(busy=lambda: None).lend()
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 0 50 1000 5 0 10 0 0 0\ncpu0 1 2 3\n")
    assert busy_cpu_seconds(stat) is not None and busy_cpu_seconds(stat) > 0
