/* authkeys.c: being written */
