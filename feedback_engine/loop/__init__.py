"""Loop-closure stage: action backlog, "you said, we did" notifications, unsubscribe."""
