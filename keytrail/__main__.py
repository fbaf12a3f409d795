from keytrail.cli.main import run

run()
