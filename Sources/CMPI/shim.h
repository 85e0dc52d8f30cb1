#ifndef CMPI_SHIM_H
#define CMPI_SHIM_H
/*
 * Open MPI spells its handles as macros over addresses of global structs
 * (MPI_COMM_WORLD is ((MPI_Comm)&ompi_mpi_comm_world)), which Swift cannot import.
 * Each macro the wrapper needs becomes a zero-cost, prefixed inline function here.
 */
#include <mpi.h>

static inline __attribute__((always_inline)) MPI_Comm cmpi_comm_world(void) { return MPI_COMM_WORLD; }

static inline __attribute__((always_inline)) MPI_Datatype cmpi_type_byte(void) { return MPI_BYTE; }
static inline __attribute__((always_inline)) MPI_Datatype cmpi_type_int64(void) { return MPI_INT64_T; }
static inline __attribute__((always_inline)) MPI_Datatype cmpi_type_double(void) { return MPI_DOUBLE; }

static inline __attribute__((always_inline)) MPI_Op cmpi_op_max(void) { return MPI_MAX; }
static inline __attribute__((always_inline)) MPI_Op cmpi_op_min(void) { return MPI_MIN; }
static inline __attribute__((always_inline)) MPI_Op cmpi_op_sum(void) { return MPI_SUM; }

static inline __attribute__((always_inline)) MPI_Errhandler cmpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline __attribute__((always_inline)) MPI_Status *cmpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline __attribute__((always_inline)) void *cmpi_in_place(void) { return MPI_IN_PLACE; }
static inline __attribute__((always_inline)) int cmpi_proc_null(void) { return MPI_PROC_NULL; }
static inline __attribute__((always_inline)) int cmpi_any_source(void) { return MPI_ANY_SOURCE; }
static inline __attribute__((always_inline)) MPI_Request cmpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline __attribute__((always_inline)) int cmpi_success(void) { return MPI_SUCCESS; }
static inline __attribute__((always_inline)) int cmpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }


static inline __attribute__((always_inline)) MPI_Info cmpi_info_null(void) { return MPI_INFO_NULL; }
static inline __attribute__((always_inline)) MPI_File cmpi_file_null(void) { return MPI_FILE_NULL; }
static inline __attribute__((always_inline)) int cmpi_mode_rdonly(void) { return MPI_MODE_RDONLY; }
static inline __attribute__((always_inline)) int cmpi_mode_create_wronly(void) { return MPI_MODE_CREATE | MPI_MODE_WRONLY; }

#endif
