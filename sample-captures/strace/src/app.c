/* Reads its configuration file, then starts a child that reads another. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    char buf[256];
    FILE *f = fopen("conf/app.xml", "r");
    if (!f) return 1;
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    /* A probe that fails: the optional local override is missing. */
    if (access("conf/local.xml", R_OK) != 0 && n == 0) return 2;
    pid_t child = fork();
    if (child == 0) {
        execl("/bin/cat", "cat", "conf/child.xml", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
