/* accounts.c: being written */
