/* actor.c: being written */
