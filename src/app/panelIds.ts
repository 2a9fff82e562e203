/** The studio's panels by id, in the order a fine-tuning session moves through them (panels/registry.ts draws them). */
export type PanelId = 'model' | 'data' | 'selection' | 'train' | 'compare' | 'adapters';
