export const OPERATOR_NAME = "corvid-operator";
