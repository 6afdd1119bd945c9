// Bulk import (批量导入, M1/M2): pick a kind, download its template, upload a
// CSV or XLSX file, follow the progress of the background job, read the
// counts and the bad rows (row, column, reason); the list of past imports.
import { Upload } from '@element-plus/icons-vue'
import messages from './messages.js'

export default {
  key: 'imports',
  messages,
  routes: [
    { path: 'imports', name: 'imports', component: () => import('./ImportsPage.vue'), meta: { permission: 'import.run', titleKey: 'menu.imports' } },
  ],
  menu: [{ key: 'imports', titleKey: 'menu.imports', icon: Upload, to: '/imports', permission: 'import.run', order: 45 }],
}
