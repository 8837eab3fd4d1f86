/** The settings sub-pages and the permission each needs (module + action from GET /me). */
export interface SettingsPage {
  name: string
  path: string
  label: string
  module: string
  action: string
}

export const SETTINGS_PAGES: SettingsPage[] = [
  { name: 'settings-users', path: 'users', label: 'settings.tabs.users', module: 'user', action: 'update' },
  { name: 'settings-departments', path: 'departments', label: 'settings.tabs.departments', module: 'department', action: 'update' },
  { name: 'settings-roles', path: 'roles', label: 'settings.tabs.roles', module: 'role', action: 'update' },
  { name: 'settings-custom-fields', path: 'custom-fields', label: 'settings.tabs.customFields', module: 'custom_field', action: 'update' },
  { name: 'settings-tags', path: 'tags', label: 'settings.tabs.tags', module: 'tag', action: 'update' },
  { name: 'settings-pipelines', path: 'pipelines', label: 'settings.tabs.pipelines', module: 'pipeline', action: 'update' },
  { name: 'settings-pool-rules', path: 'pool-rules', label: 'settings.tabs.poolRules', module: 'pool', action: 'manage' },
  { name: 'settings-reminder-rules', path: 'reminder-rules', label: 'settings.tabs.reminderRules', module: 'reminder_rule', action: 'manage' },
  { name: 'settings-handover', path: 'handover', label: 'settings.tabs.handover', module: 'customer', action: 'transfer' },
  { name: 'settings-imports', path: 'imports', label: 'settings.tabs.imports', module: 'customer', action: 'import' },
  { name: 'settings-notification-channels', path: 'notification-channels', label: 'settings.tabs.notificationChannels', module: 'role', action: 'manage' },
]

export function allowedSettingsPages(can: (module: string, action: string) => boolean): SettingsPage[] {
  return SETTINGS_PAGES.filter((p) => can(p.module, p.action))
}
