# loop/: the reactor. No binary; every other module links libloop.a.
