"""Attribution (METRIC.md section 2): which commits are AI-assisted, by which agent, on what
evidence. The agent registry is data (``agents.yml``, extended by the config file);
``trailers`` parses trailer blocks as git does, ``notes`` reads git-ai notes, ``detect``
finds the evidence in one commit, and ``rows`` turns git's commits into attributed rows."""
