/** Thrown when a caller passes invalid options or control input; the control API answers it with 400. */
export class SimulatorInputError extends Error {
  override readonly name = 'SimulatorInputError';
}
