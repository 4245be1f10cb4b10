import { createContext, useContext } from "react";

/** The per-response Content-Security-Policy nonce for Remix's inline scripts (server render only). */
const NonceContext = createContext<string>("");
export const NonceProvider = NonceContext.Provider;
export const useNonce = () => useContext(NonceContext);
