"""The dispatch replay: response times had some calls gone to another responder."""
