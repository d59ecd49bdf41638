/* cmd_add.c: being written */
