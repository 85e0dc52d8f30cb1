#ifndef CPNG_H
#define CPNG_H
/* placeholder: replaced by the codec work */
int cpng_version(void);
#endif
