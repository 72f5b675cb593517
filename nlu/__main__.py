"""`python -m nlu`: the NLU command line without the rest of the bot."""

from nlu.cli import app

app()
