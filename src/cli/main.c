#include <stdio.h>
#include "imbal/imbal.h"
int main(void) { puts(imbal_version_string()); return 0; }
