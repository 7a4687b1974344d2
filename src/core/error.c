/* natsim: the error domain used at the edges (scenario, traces, CLI). */
#include "natsim/error.h"

G_DEFINE_QUARK (natsim-error-quark, natsim_error)
