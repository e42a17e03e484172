import './auth.js';
import './signup.js';
import './self.js';
import './admin-users.js';
import './pools.js';
import './groups.js';
import './auth-events.js';
import './user-import.js';
