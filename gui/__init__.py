"""The TL-FIF desktop client: a Tk window over two interchangeable backends.

`tlfif gui` starts it (gui.app.run). The window (gui.window) only draws; the controllers
(gui.chat, gui.cost_ticker) decide, and the backends (gui.aws_backend, gui.openai_backend)
talk to the network, always off the Tk thread.
"""
