/* privs.c: being written */
