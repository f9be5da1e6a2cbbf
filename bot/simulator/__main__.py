"""``python -m bot.simulator --port 8765``: the simulator on its own."""

from .server import main

main()
