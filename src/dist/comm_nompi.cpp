// Built instead of comm_mpi.cpp when MPI is not available: the world is this one process.
#include "dist/comm.h"

namespace fathom {

bool mpi_available() { return false; }
std::unique_ptr<Comm> make_world_comm() { return make_local_comm(); }

}  // namespace fathom
