"""``python -m nextshow.cli``: the same command as the ``nextshow`` script."""

from nextshow.cli import main

main()
