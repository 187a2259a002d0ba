/**
 * The measurements an applicant can attach, with the codes receivers rely on: LOINC for vital signs, ISO/IEEE 11073
 * MDC (code system urn:oid:2.16.840.1.113883.6.24) for waveforms, UCUM units.
 */
export const LOINC = 'http://loinc.org';
export const MDC = 'urn:oid:2.16.840.1.113883.6.24';
export const UCUM = 'http://unitsofmeasure.org';

export const VITAL_SIGNS = {
  heartRate: { code: '8867-4', display: 'Heart rate', unit: '/min' },
  respiratoryRate: { code: '9279-1', display: 'Respiratory rate', unit: '/min' },
  bodyTemperature: { code: '8310-5', display: 'Body temperature', unit: 'Cel' },
  oxygenSaturation: { code: '59408-5', display: 'Oxygen saturation in Arterial blood by Pulse oximetry', unit: '%' },
  bodyWeight: { code: '29463-7', display: 'Body weight', unit: 'kg' },
  bloodGlucose: { code: '2339-0', display: 'Glucose [Mass/volume] in Blood', unit: 'mg/dL' },
  systolicBloodPressure: { code: '8480-6', display: 'Systolic blood pressure', unit: 'mm[Hg]' },
  diastolicBloodPressure: { code: '8462-4', display: 'Diastolic blood pressure', unit: 'mm[Hg]' },
} as const;

export type VitalSign = keyof typeof VITAL_SIGNS;

/** Blood pressure travels as one panel with two components. */
export const BLOOD_PRESSURE_PANEL = {
  code: '85354-9',
  display: 'Blood pressure panel with all children optional',
} as const;

export const WAVEFORMS = {
  ecg: { code: '131328', display: 'MDC_ECG_ELEC_POTL', unit: 'mV' },
  pleth: { code: '150452', display: 'MDC_PULS_OXIM_PLETH', unit: '{absorbance}' },
} as const;

export type Waveform = keyof typeof WAVEFORMS;

/** ECG leads as MDC codes (MDC_ECG_ELEC_POTL_*), for one component per lead. */
export const ECG_LEADS = {
  I: '131329',
  II: '131330',
  III: '131389',
  aVR: '131390',
  aVL: '131391',
  aVF: '131392',
  V1: '131331',
  V2: '131332',
  V3: '131333',
  V4: '131334',
  V5: '131335',
  V6: '131336',
} as const;
