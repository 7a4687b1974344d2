/* natsim: model internals shared between profile files. */
#pragma once

#include "natsim/model.h"

extern const NatsimProfile natsim_profile_generic;

/* Inside addresses come from 10.0.0.0/8; a population's hosts are
 * consecutive from ctx->inside_base. */
#define NATSIM_INSIDE_NET  UINT32_C (0x0a000000)
