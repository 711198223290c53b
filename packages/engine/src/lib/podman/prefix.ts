// The libpod API prefix, alone in a module so the docker driver's handlers (which podman's
// compatible API shares) can reach libpod's endpoints without importing the podman driver.

/** The libpod API prefix the drivers speak: podman 4.0 and later answer it. */
export const LIBPOD_PREFIX = '/v4.0.0/libpod';
