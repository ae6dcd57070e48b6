from feedback_engine.cli import main

main(prog_name="feedback-engine")
