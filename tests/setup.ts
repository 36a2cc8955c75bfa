// The backends register themselves with core when imported, as in an application.
import '@tessera/webgpu';
import '@tessera/reference';
