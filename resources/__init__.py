"""Icons, presets and styles shipped with ScratchNet (installed as the ``scratchnet_resources`` package)."""
