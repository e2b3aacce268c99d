from hrviz.cli import app

app()
