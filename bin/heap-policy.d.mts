export declare const HEAP_FLAGS: readonly string[];
export declare function applyHeapPolicy(): void;
export declare function startupDone(): void;
