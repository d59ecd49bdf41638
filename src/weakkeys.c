/* weakkeys.c: being written */
