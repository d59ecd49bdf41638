/* safefs.c: being written */
