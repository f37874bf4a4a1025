// clinic doctor and heapprofiler around a real perpx serve (cases in clinic-cases.ts).
import { defineClinicTests } from './clinic-cases.ts';

defineClinicTests(['doctor', 'heapprofiler']);
